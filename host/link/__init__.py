"""Host side of the device link: transports (BLE, USB serial, simulated device), the receiver that turns
frames into a gap-free stored session, and flash sync (docs/link.md)."""
