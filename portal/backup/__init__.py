"""Whole-database backups and restores (flask backup ...)."""
