'use strict';
// The "Run test" code lens: the server's `chatflow.runTest` command runs one `test` block as
// `chatflow test` does and answers `{ passed, report }`. Kept free of the `vscode` module so it
// can be unit tested.

/** The server command behind the "Run test" lens (arguments: the document URI, the test's name). */
const RUN_TEST_COMMAND = 'chatflow.runTest';

/**
 * What to tell the user about a test run.
 * @param {unknown} result the server's answer
 * @param {unknown} testName the lens's second argument
 * @returns {{ passed: boolean, report: string, message: string }}
 */
function testOutcome(result, testName) {
  const answer = result && typeof result === 'object' ? /** @type {Record<string, unknown>} */ (result) : {};
  const passed = answer.passed === true;
  const report = typeof answer.report === 'string' ? answer.report : '';
  const name = typeof testName === 'string' && testName !== '' ? `"${testName}"` : 'The tests';
  const message = passed ? `${name} passed.` : `${name} failed.`;
  return { passed, report, message };
}

module.exports = { RUN_TEST_COMMAND, testOutcome };
