export { InputError, ActionError, reportFailure } from './errors.js';
export {
  type InputReader,
  actionsInputReader,
  readBoolean,
  readChoice,
  readKeyValuePairs,
  readList,
  readLines,
  readOptionalPositiveInt,
  readRequired,
  readString,
} from './inputs.js';
