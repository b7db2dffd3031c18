.PHONY: run test test-postgres lint serve bench

# Set up, prepare the database with demo data and a first user, and serve on 127.0.0.1:8000.
run:
	scripts/setup.sh
	.venv/bin/python manage.py prepare
	.venv/bin/python manage.py runserver 127.0.0.1:8000

# Set up and run the whole test suite.
test:
	scripts/setup.sh
	.venv/bin/python -m pytest

# The same suite on a throwaway PostgreSQL (scripts/postgres.sh: 127.0.0.1, a free port, a temp
# dir, removed afterwards), as CI runs it. Needs the PostgreSQL server binaries (apt: postgresql).
test-postgres:
	scripts/setup.sh
	@env="$$(scripts/postgres.sh start)" || exit 1; eval "$$env"; \
	trap 'scripts/postgres.sh stop "$$PG_TEMP_DIR"' EXIT; \
	echo "DATABASE_URL=$$DATABASE_URL"; \
	.venv/bin/python -m pytest

# Every benchmark in bench/ on data it generates, in a throwaway DATA_DIR: one table of
# figures and goals (a few minutes; docs/benchmarks.md explains each). Exits 1 on a miss.
bench:
	scripts/setup.sh
	.venv/bin/python bench/run.py

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

# Production-style serving on 127.0.0.1:8000: gunicorn + WhiteNoise with hashed, compressed
# static files. Put a TLS proxy in front and set HTTPS=true, SECRET_KEY, ALLOWED_HOSTS.
serve: export HASHED_STATIC = 1
serve:
	scripts/setup.sh
	.venv/bin/python manage.py collectstatic --noinput -v0
	.venv/bin/python manage.py prepare --no-demo --password-to-file
	.venv/bin/gunicorn dashboard.wsgi --bind $${BIND:-127.0.0.1:8000} --workers $${WORKERS:-3} \
		--timeout 60 --access-logfile -
