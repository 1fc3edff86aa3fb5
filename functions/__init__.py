"""Lambda source: handlers (thin) → service (use cases) → domain (pure rules) and dal (AWS access)."""
