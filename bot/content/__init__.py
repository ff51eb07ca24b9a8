"""Content: YAML files -> typed, validated, immutable Library."""
