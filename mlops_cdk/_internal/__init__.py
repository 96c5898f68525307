"""Private helpers shared by the constructs and stacks. Not part of the public API."""
