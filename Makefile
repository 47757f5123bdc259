# The two commands. Both install what they need themselves.
#   make run   - set up and serve Backhaul with demo data on http://127.0.0.1:5000/
#   make test  - set up the test peers and run the whole suite
.PHONY: run test bench lint
run:
	@bash scripts/run.sh
test:
	@bash scripts/test.sh
bench:
	@bash scripts/bench.sh
lint:
	@.venv/bin/ruff check core sdk plugins tests bench
