# Everything a fresh machine with Python 3.11 and make needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install browser initdb demo bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.py
	$(BIN)/pip install --quiet -e ".[testing]"
	touch $(STAMP)

install: $(STAMP)

# Loads and solves the demo day only when the database has no data yet.
initdb: install
	$(BIN)/foodtrucks initdb development.ini --demo

# The web server and one worker (the embedded broker of development.ini); Ctrl-C stops both.
run: initdb
	@[ -f demo-accounts.txt ] && cat demo-accounts.txt || true
	@$(BIN)/foodtrucks worker development.ini & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' INT TERM EXIT; \
	  $(BIN)/pserve development.ini

# Debian's Chromium (and a CJK font for its screenshots) drives the browser tests; they skip with a note where it cannot be installed.
browser:
	@{ command -v chromium && fc-list :lang=zh | grep -q . ; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "note: could not install chromium; browser tests will be skipped"; \
	  else echo "note: chromium missing and not root; browser tests will be skipped"; fi; }

test: install browser
	$(BIN)/python -m pytest -q tests

bench: install
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench.solomon_table
	$(BIN)/python -m bench.compare
	$(BIN)/python -m bench.scaling
	$(BIN)/python -m bench.committee_load

clean:
	rm -rf $(VENV) *.egg-info foodtrucks.sqlite tests/artifacts
