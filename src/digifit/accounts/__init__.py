"""Accounts and roles: survey manager and analyst (Django groups), API tokens."""
