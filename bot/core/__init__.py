"""The core: use-cases and pure engines. Never imports Telegram."""
