import { defineSuiteTests } from './suite.js';

defineSuiteTests('bullseye');
