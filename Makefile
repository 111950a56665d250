# Two commands: `make demo` runs the nightly merge on generated demo data, `make test` runs the tests.
# Both build the virtual environment first, from the pinned versions in constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_HOME   ?= registry_home
DEMO_PEOPLE ?= 20000
DEMO_DATE   ?= 2026-11-20
DEMO_NEXT   ?= 2026-11-21

.PHONY: install demo test test-fast installed-night browser java dagster clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $@

# Debian's Chromium drives the review page's end-to-end test; nothing downloads a browser of its own.
# fonts-wqy-zenhei: without a CJK font Chromium draws residents' names as empty boxes in the screenshot.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wqy; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-zenhei >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install chromium' (browser tests will be skipped)"; fi; }

# Java 17+ for the Spark engine (`registry run --engine spark`) and its tests: Debian's default-jre-headless,
# the JVM pyspark starts; nothing downloads a Java of its own.
java:
	@{ command -v java >/dev/null 2>&1 && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else echo "Java 17+ missing: run 'sudo apt-get install default-jre-headless' (Spark tests will be skipped)"; fi; }

# Again and again: a night already generated is not written again (the generator's meta.json marks a
# whole night), the first night is merged only while nothing is published, and the second night's run is
# a rerun of the latest night, which is idempotent.
demo: install
	test -f $(DEMO_HOME)/generator_state/$(DEMO_DATE)/meta.json || $(BIN)/registry generate --people $(DEMO_PEOPLE) --date $(DEMO_DATE) --home $(DEMO_HOME) --seed 7 --truth $(DEMO_HOME)/truth/$(DEMO_DATE).csv
	test -f $(DEMO_HOME)/published/registry.duckdb || $(BIN)/registry run --home $(DEMO_HOME) --date $(DEMO_DATE)
	test -f $(DEMO_HOME)/generator_state/$(DEMO_NEXT)/meta.json || $(BIN)/registry generate --people $(DEMO_PEOPLE) --date $(DEMO_NEXT) --home $(DEMO_HOME) --seed 7 --previous $(DEMO_HOME)/landing/$(DEMO_DATE) --truth $(DEMO_HOME)/truth/$(DEMO_NEXT).csv
	$(BIN)/registry run --home $(DEMO_HOME) --date $(DEMO_NEXT)
	$(BIN)/registry evaluate --home $(DEMO_HOME) --truth $(DEMO_HOME)/truth/$(DEMO_NEXT).csv
	$(BIN)/registry review list --home $(DEMO_HOME) --limit 10

test: install browser java
	$(BIN)/pytest -n 2 --dist loadfile

test-fast: install
	$(BIN)/pytest -n 2 --dist loadfile -m "not slow and not browser"

# The wheel, installed (not editable) in a new virtual environment outside the tree, merges two small nights.
installed-night:
	PYTHON=$(PYTHON) .ci/installed_night

# The Dagster UI on http://127.0.0.1:$(DAGSTER_PORT) (make dagster DAGSTER_PORT=3001): the job, schedule,
# sensors, checks and run history of DEMO_HOME, and the daemon that runs the schedule and sensors.
DAGSTER_PORT ?= 3000
dagster: install
	mkdir -p $(DEMO_HOME)/dagster
	test -f $(DEMO_HOME)/dagster/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $(DEMO_HOME)/dagster/dagster.yaml
	REGISTRY_HOME=$(abspath $(DEMO_HOME)) DAGSTER_HOME=$(abspath $(DEMO_HOME))/dagster $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(DAGSTER_PORT)

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache
