# The two commands of the README, and their parts.
.PHONY: demo test setup build-arm64 bench-cold-start load fuzz bench bench-publish

demo:   ## Run the local demo: SQS (moto) + the relay under cargo lambda watch + a triggered event of every type
	scripts/demo.sh

test:   ## Run every check and test
	scripts/test.sh

setup:  ## Install the tools into .venv (both targets above do this first)
	scripts/setup.sh

build-arm64:  ## sam build --beta-features (cargo lambda build --release --arm64), then the Lambda zip and its size
	scripts/setup.sh
	scripts/build-arm64.sh

bench-cold-start:  ## Cold-start figures: exec -> challenge answered, secret read over TLS, at Lambda CPU shares
	scripts/bench-cold-start.sh

load:  ## Load test: LOAD_EVENTS webhooks (default 10000) sent twice through 4 relay processes to moto; fails on a lost acknowledgement
	scripts/load.sh

fuzz:  ## Fuzz the protocol core: every cargo-fuzz target of fuzz/ for FUZZ_SECONDS each (default 300)
	scripts/fuzz.sh

bench:  ## The protocol core against the floor: medians, ratios and allocations per request (BENCH_QUICK=1: a few samples)
	scripts/bench.sh

bench-publish:  ## One Feilian request of 1,000 changes: answer time with calls sent one at a time vs ten at a time (moto + 20-50 ms proxy)
	scripts/bench-publish.sh
