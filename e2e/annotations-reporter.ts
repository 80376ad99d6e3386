/**
 * Prints, at the end of the run, every test that did not simply pass by design: skipped ones with
 * their reason (the `electron` project must say *why* it did not run, issue 4) and expected
 * failures (known bugs kept visible with `test.fail`) with theirs. Playwright's list reporter
 * shows only "skipped" or a cross.
 */
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class AnnotationsReporter implements Reporter {
  readonly #lines: string[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    const kind = result.status === 'skipped' ? 'skip' : test.expectedStatus === 'failed' ? 'fail' : undefined;
    if (!kind) return;
    const reasons = [...test.annotations, ...result.annotations].filter((a) => a.type === kind && a.description).map((a) => a.description);
    const project = test.parent.project()?.name ?? '';
    const what = kind === 'skip' ? 'skipped' : result.status === 'failed' ? 'failed as expected (known bug)' : 'PASSED although marked as a known bug: remove test.fail';
    this.#lines.push(`  [${project}] ${test.title}\n    ${what}: ${[...new Set(reasons)].join('; ') || '(no reason given)'}`);
  }

  onEnd(): void {
    if (this.#lines.length > 0) console.log(`\nNot run, or known to fail, and why:\n${this.#lines.join('\n')}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
