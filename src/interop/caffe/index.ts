// Caffe interop: the protobuf text format, solvers (prototxt or JSON), net prototxt → rede config, and the
// Solver that runs a solver file as Caffe does (docs/caffe.md).
export { parsePrototxt, type TextField, type TextValue, type ParseOptions } from './prototxt';
export { parseSolver, solverOptimizer, solverSchedule, solverSeed, LR_POLICIES, SOLVER_TYPES, type CaffeSolver, type LrPolicy, type SolverType } from './solver';
export { parseNet, netToConfig, CAFFE_LAYERS, type CaffeData, type CaffeNetSpec, type ConvertedNet } from './net';
export { caffeTransform, dataSpecFor, loadSpec } from './data';
export { Solver, type SolverRun, type SolverRunOptions } from './solve';
