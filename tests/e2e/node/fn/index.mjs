// tests/e2e/node/fn/index.mjs: handlers the e2e tests run under the real
// Node.js runtime interface client (aws-lambda-ric), as `index.<name>`.

// Module scope survives between invokes of one environment and is lost when
// the environment is reset, so this counter tells a warm invoke from a fresh
// INIT.
let invokes = 0;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A JSON result built from the event, so the caller can see it round-tripped.
export const ok = async (event) => ({ ok: true, event });

// An uncaught error: the RIC reports it on /error as {errorType, errorMessage, trace}.
export const throws = async () => {
    throw new Error("boom from node");
};

// What the RIC derives from Lambda-Runtime-Deadline-Ms.
export const remaining = async (event, context) => ({
    remaining: context.getRemainingTimeInMillis(),
    requestId: context.awsRequestId,
    arn: context.invokedFunctionArn,
});

// Outlives any function timeout the tests use, unless told otherwise.
export const slow = async (event) => {
    await sleep(event?.ms ?? 30000);
    return { slept: event?.ms ?? 30000 };
};

// {"count": N} for the N-th invoke of this process; sleeps first when the
// event asks, so one handler can both time out and count.
export const count = async (event) => {
    invokes += 1;
    const n = invokes;
    if (event?.sleep_ms) await sleep(event.sleep_ms);
    return { count: n };
};
