import { defineSuiteTests } from './suite.js';

defineSuiteTests('trixie');
