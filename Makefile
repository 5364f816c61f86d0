# Two commands on a fresh Debian machine (as root): `make demo` and `make test`.
PY      := .venv/bin/python
STAMP   := .venv/.installed
SYSPKGS := poppler-utils fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-uming fonts-arphic-ukai fonts-noto-cjk redis-server postgresql chromium
OUT     ?= out/demo

.PHONY: setup system demo test bench clean

setup: $(STAMP)

# System packages: poppler renders PDFs; the CJK fonts are for the test-scan generator.
system:
	@bash scripts/install-system.sh $(SYSPKGS)

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

demo: setup
	$(PY) -m extractor extract samples/demo.pdf --out $(OUT) --tables $(OUT)/tables --debug $(OUT)/debug -v

test: setup
	@bash scripts/services.sh
	$(PY) -m pytest tests

bench: setup
	$(PY) benchmarks/pipeline_speed.py

clean:
	rm -rf out .pytest_cache
