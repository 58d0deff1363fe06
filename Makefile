# The two commands of the README, and their parts.
.PHONY: demo test setup build-arm64

demo:   ## Run the local demo: SQS (moto) + the relay under cargo lambda watch + a triggered event of every type
	scripts/demo.sh

test:   ## Run every check and test
	scripts/test.sh

setup:  ## Install the tools into .venv (both targets above do this first)
	scripts/setup.sh

build-arm64:  ## The Lambda zip for arm64 (cargo lambda build --release --arm64)
	scripts/setup.sh
	scripts/build-arm64.sh
