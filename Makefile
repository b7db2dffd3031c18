.PHONY: run test lint serve

# Set up, prepare the database with demo data and a first user, and serve on 127.0.0.1:8000.
run:
	scripts/setup.sh
	.venv/bin/python manage.py prepare
	.venv/bin/python manage.py runserver 127.0.0.1:8000

# Set up and run the whole test suite.
test:
	scripts/setup.sh
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
