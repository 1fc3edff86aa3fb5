"""The local runtime: the whole platform on one machine, on moto's embedded AWS (DESIGN §8)."""
