import { defineSuiteTests } from './suite.js';

defineSuiteTests('sid');
