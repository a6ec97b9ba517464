"""Custom Rasa NLU components, loaded by `rasa` in `.venv-rasa` (PYTHONPATH is the
repository root). They use nothing beyond Rasa's own dependencies and import no project
package, as ARCHITECTURE.md requires."""
