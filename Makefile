# One command proves the repo healthy: `make check`.
.PHONY: check lint format types test bench

check: lint types test

lint:
	ruff check .
	ruff format --check .

format:
	ruff format .
	ruff check --fix .

types:
	bash .ci/typecheck

test:
	python -m pytest

bench:
	python bench/claim.py --quick
	python bench/ingest.py --quick
	python bench/kb.py --quick
	python bench/playbook.py --quick
	python bench/tui.py --quick
