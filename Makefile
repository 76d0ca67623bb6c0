# Minsheng: `make run` sets everything up and serves the demo; `make test` sets up and runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup demo model vendor browser-deps clean serve worker migrate

run: setup
	$(FLASK) demo
	@echo "民声已启动：http://$(HOST):$(PORT)/  (Ctrl+C 退出)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: setup browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed vendor model
	$(FLASK) db upgrade

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Production (README "生产部署"): DATABASE_URL, SECRET_KEY and REDIS_URL come from the environment.
migrate: $(VENV)/.installed
	$(FLASK) db upgrade

serve: $(VENV)/.installed vendor model
	MINSHENG_ENV=production $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py

worker: $(VENV)/.installed model
	MINSHENG_ENV=production $(FLASK) jobs worker

# Front-end libraries come from the npm registry and are copied into the ignored static/vendor/.
vendor: static/vendor/.installed
static/vendor/.installed: package.json
	npm install --no-audit --no-fund --no-package-lock --loglevel=error
	mkdir -p static/vendor
	cp node_modules/echarts/dist/echarts.min.js static/vendor/
	touch $@

# The shipped theme model is trained from the project's own corpus when missing or stale.
model: nlp/models/default.joblib
nlp/models/default.joblib: $(VENV)/.installed $(wildcard nlp/corpus/*.csv nlp/*.py nlp/data/*.txt)
	$(PY) -m nlp train --out $@

# Browser tests drive Debian's Chromium; Chinese text needs a CJK font to render.
browser-deps:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk)

clean:
	rm -rf $(VENV) node_modules static/vendor nlp/models test-output
