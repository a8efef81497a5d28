"""How the APIs reach the engines and engines hand work to each other."""
