# The two commands (see README): `make demo` runs the main job, `make test` runs the tests.
# Both create .venv/ and fetch the Neo4j jars on a fresh machine; every step is idempotent.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test install jars browser haproxy clean-state

demo: install jars
	$(VENV)/bin/kgrec demo

test: install jars browser haproxy
	$(VENV)/bin/python -m pytest

install: $(STAMP)

# PYTHONWARNINGS silences the note setuptools prints on every editable install (it is not about kgrec).
$(STAMP): pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade "pip>=24" "setuptools>=77" wheel
	PYTHONWARNINGS=ignore::UserWarning:setuptools.command.editable_wheel \
	  $(VENV)/bin/python -m pip install --quiet --constraint constraints.txt --editable ".[test,bench]"
	touch $(STAMP)

jars: install
	$(VENV)/bin/kgrec neo4j install

# The web page's tests drive the system Chromium (Debian's package); installed when root with apt-get.
# Elsewhere install it yourself: without it those tests skip (and fail with CI=true).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "no chromium (needs root and apt-get to install it): the web page's browser tests will skip"

# tests/test_replicas.py runs two API replicas behind haproxy (Debian's package, deploy/haproxy.cfg); installed
# when root with apt-get. Elsewhere install it yourself: without it that test fails (it never skips).
haproxy:
	@command -v haproxy >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; } \
	  || echo "no haproxy (needs root and apt-get to install it): tests/test_replicas.py will fail"

# Stops the local server and deletes all local state (graph, models, password). Asks nothing: be sure.
clean-state:
	-$(VENV)/bin/kgrec neo4j stop
	rm -rf .kgrec
