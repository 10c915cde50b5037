// Every workflow the worker registers. Workflow code imports only types from activities.
export { smokeWorkflow } from './smoke/workflow';
