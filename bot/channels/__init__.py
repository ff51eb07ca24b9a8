"""Channel adapters: translate a platform's input to Coach calls and Replies back. No business rules."""
