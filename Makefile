# The two commands of the README, and their parts. `make help` lists them.
.PHONY: help demo test relay setup build-arm64 bench-cold-start load fuzz bench bench-publish

help:   ## List the targets and what each does
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9-]+):.*## (.*)/\1\t\2/' | \
	  awk -F'\t' '{ printf "make %-17s %s\n", $$1, $$2 }'

demo:   ## The local demo: SQS (moto), the relay under cargo lambda watch, an event of every type (3 min the first time)
	@scripts/demo.sh

test:   ## Every check and test (4-8 min the first time)
	@scripts/test.sh

relay:  ## A relay of your own: local SQS (moto), a queue, the relay with the demo's secrets; prints the URL and variables
	@scripts/relay.sh

setup:  ## Install the tools into .venv (demo, test and relay do this first: about 1 min, 1 GB with MiniStack)
	@scripts/setup.sh

build-arm64:  ## sam build --beta-features (cargo lambda build --release --arm64; ~10 min the first time), then the Lambda zip and its size
	@scripts/setup.sh
	@scripts/build-arm64.sh

bench-cold-start:  ## Cold-start figures: exec -> challenge answered, secret read over TLS, at Lambda CPU shares
	@scripts/bench-cold-start.sh

load:  ## Load test: LOAD_EVENTS webhooks (default 10000) sent twice through 4 relay processes to MiniStack's SQS (LOAD_SQS=moto: moto); fails on a lost acknowledgement
	@scripts/load.sh

fuzz:  ## Fuzz the protocol core: every cargo-fuzz target of fuzz/ for FUZZ_SECONDS each (default 300)
	@scripts/fuzz.sh

bench:  ## The protocol core against the floor: medians, ratios and allocations per request (BENCH_QUICK=1: a few samples)
	@scripts/bench.sh

bench-publish:  ## One Feilian request of 1,000 changes: answer time with calls sent one at a time vs ten at a time (moto + 20-50 ms proxy)
	@scripts/bench-publish.sh
