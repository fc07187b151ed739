/** The one URL redactor lives in @cityflow/protocol (hub and agent share it). */
export { redactUrl } from '@cityflow/protocol';
