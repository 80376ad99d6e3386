/**
 * The one entry point both transports (Electron IPC, headless WebSocket) call with untrusted
 * input: checks the command name, validates the arguments against the contract, runs the
 * command, and turns every outcome into a Result. Internal errors are logged by code only and
 * reach the UI as INTERNAL, so no stack, path, key or plaintext crosses to the renderer.
 */
import { ApiFailure, err, isCommandName, ok, parseCommandArgs, type CoreApi, type Result } from '../../shared';

export type InternalErrorReporter = (command: string, error: unknown) => void;

export async function dispatchCommand(
  core: CoreApi,
  command: unknown,
  args: unknown,
  reportInternal: InternalErrorReporter = () => {},
): Promise<Result<unknown>> {
  if (!isCommandName(command)) return err('UNKNOWN_COMMAND', 'unknown command');
  const parsed = parseCommandArgs(command, args);
  if (!parsed.ok) return parsed;
  try {
    const handler = core[command] as (a: unknown) => Promise<unknown>;
    return ok(await handler(parsed.value));
  } catch (error) {
    if (error instanceof ApiFailure) return err(error.code, error.message);
    reportInternal(command, error);
    return err('INTERNAL', 'something went wrong; see the log');
  }
}
