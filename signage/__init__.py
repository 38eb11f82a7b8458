"""What people see: board views, pages, QR codes and navigation links."""
