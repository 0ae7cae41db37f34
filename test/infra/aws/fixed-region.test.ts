/**
 * A stack whose region is fixed (`-c region=...`, or a cse546 profile's us-east-1) renders its ARNs
 * with the region written out, not `<AWS::Region>`: every cdk-nag acknowledgement must name the
 * ARN as rendered. (The Distributed Map's grants on the state machine's own executions were
 * acknowledged only in the `<AWS::Region>` form: `cdk synth -c profile=cse546-p2` failed.)
 * (Image packaging: the template is what matters here, not the bundles.)
 */
import { synthesize, type Synthesized } from './support.js';

let s: Synthesized;

beforeAll(() => {
  s = synthesize({ prefix: 'region-test', packaging: 'image', region: 'eu-west-1' });
});
afterAll(() => s?.cleanup());

test('the region is fixed in the stack', () => {
  expect(s.stack.region).toBe('eu-west-1');
});

test('cdk-nag passes with a fixed region: the Distributed Map grants on its child executions acknowledged as rendered', () => {
  expect(s.nagViolations).toEqual([]);
});
