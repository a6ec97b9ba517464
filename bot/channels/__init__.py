"""Custom Rasa input channels, loaded by `rasa run` in `.venv-rasa` through
`bot/credentials.yml` (PYTHONPATH is the repository root). Like `bot/components`, they use
nothing beyond Rasa's own dependencies and import no project package."""
