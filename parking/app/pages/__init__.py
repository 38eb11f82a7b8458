"""Pages for people: the driver's QR landing page and the live board display."""
