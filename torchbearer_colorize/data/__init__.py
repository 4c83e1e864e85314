"""Data: image folders and the built-in sets (``builtin``) -> cached uint8 arrays (``cache``) -> torch datasets
(``paintings``, ``fruits360``, ``noise``, ``features``)."""
