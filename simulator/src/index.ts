export { BrokerPool } from './broker-pool.js';
export { resolveBrokers } from './brokers.js';
export { SimClock, type ClockMode } from './clock.js';
export { checkDemoFile, readDemoFile, writeDemoFile, type DemoAgent, type DemoFile } from './demo-file.js';
export {
  Demo,
  DEMO_PORTS,
  DEMO_EMAIL,
  agentPorts,
  spareAgentPortBase,
  type DemoOptions,
} from './demo/demo.js';
export { assertPortsFree, isPortFree } from './demo/ports.js';
export { FAULT_KINDS, FaultInjector, corrupt, type FaultKind } from './faults.js';
export { SensorFleet } from './fleet.js';
export { LoadGenerator, type LoadSensor, type LoadStats } from './load.js';
export { CsvReplay, parseCsvRow, type ReplayStats } from './replay.js';
export { createRng, hashString, poisson } from './rng.js';
export { IncidentScenario, defaultIncidentRoad } from './scenarios/incident.js';
export { NormalScenario, roadWeight } from './scenarios/normal.js';
export { demandAt, hourOfDay } from './scenarios/profile.js';
export type { RoadCondition, Scenario } from './scenarios/types.js';
export { laneFlow, sensorReading, speedForDemand } from './sensor-model.js';
export { Simulation, buildScenario, SCENARIOS, type ScenarioName } from './simulation.js';
export { ControlServer, controlRequest } from './control-server.js';
export { OnDemandIncidents, ON_DEMAND_RAMP_IN_MIN, type ActiveIncident } from './scenarios/on-demand.js';
