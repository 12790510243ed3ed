"""Chat and webhook channels: one pure formatter and one `Sender` (delivery.py) per service."""
