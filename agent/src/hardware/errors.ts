import { EdgehookError, type ErrorCode } from '@edgehook/shared';

/**
 * An error that also names kvmd's exception class (GpioChannelIsBusyError, AtxIsBusyError...),
 * so the control plane's PiKVM facade can answer exactly as kvmd would.
 */
export function hwError(code: ErrorCode, pikvmError: string, message: string): EdgehookError {
  return new EdgehookError(code, message, { pikvmError });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
