import { defineSuiteTests } from './suite.js';

defineSuiteTests('bookworm');
