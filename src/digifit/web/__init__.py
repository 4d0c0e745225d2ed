"""The Django project of digifit: settings, URLs, base templates and static files."""
