"""The service kit: what every service shares at run time."""
