"""Evaluation code (scoring, data-set loaders, peers, virtual links, test vectors): used by bench/ and tests/, never by the product; not installed."""
