"""Channel connectors: one abstract contract, adapters for X, Facebook, email and JSON feeds."""
