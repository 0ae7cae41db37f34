/**
 * Deployment settings from CDK context, and the checks that fail a synth early with a message
 * that says what to pass instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkGalleryFile, modelFiles } from '#infra/aws/functions.js';
import { readAsl, videoSuffixes } from '#infra/aws/facerec-stack.js';
import { DEFAULT_SETTINGS, describeRegion, readSettings, SETTING_KEYS } from '#infra/aws/settings.js';
import { aslPath, cdkJsonContext, fixtureGallery } from './support.js';
import { parseS3Uri } from '#functions/core/layout.js';

const from = (ctx: Record<string, unknown>) => readSettings((k) => ctx[k]);

describe('readSettings', () => {
  test('cdk.json restates no setting: every default has one home, DEFAULT_SETTINGS', () => {
    const context = cdkJsonContext();
    expect(SETTING_KEYS.filter((key) => key in context)).toEqual([]);
    expect(from(context)).toEqual(DEFAULT_SETTINGS);
  });

  test('absent or empty values take the defaults', () => {
    expect(from({})).toEqual(DEFAULT_SETTINGS);
    expect(from({ prefix: '' }).prefix).toBe(DEFAULT_SETTINGS.prefix);
  });

  test('-c values arrive as strings and are converted', () => {
    const s = from({
      prefix: 'cse546-team7',
      profile: 'cse546-p1',
      stage1ExpirationDays: '21',
      mapMaxConcurrency: '25',
      accessLogs: 'true',
      logRetentionDays: '14',
      videoExtensions: '.MP4, mov',
      frames: 20,
    });
    expect(s).toMatchObject({
      prefix: 'cse546-team7',
      profile: 'cse546-p1',
      stage1ExpirationDays: 21,
      mapMaxConcurrency: 25,
      accessLogs: true,
      logRetentionDays: 14,
      videoExtensions: ['mp4', 'mov'],
      frames: '20',
    });
  });

  test.each([
    ['1', true],
    ['yes', true],
    ['0', false],
    ['no', false],
  ])('on/off values read as the functions read them: accessLogs=%s is %s', (value, expected) => {
    expect(from({ accessLogs: value }).accessLogs).toBe(expected);
  });

  test.each([
    [{ prefix: 'Team_7' }, 'prefix'],
    [{ prefix: 'x'.repeat(49) }, 'prefix'],
    [{ prefix: '-leading' }, 'prefix'],
    [{ profile: 'cse546-p3' }, 'profile'],
    [{ packaging: 'docker' }, 'packaging'],
    [{ removalPolicy: 'snapshot' }, 'removalPolicy'],
    [{ stage1ExpirationDays: '0' }, 'stage1ExpirationDays'],
    [{ mapMaxConcurrency: '2.5' }, 'mapMaxConcurrency'],
    [{ logRetentionDays: '10' }, 'logRetentionDays'],
    [{ accessLogs: 'yes please' }, 'accessLogs'],
    [{ videoExtensions: 'mp4,m p4' }, 'videoExtensions'],
    [{ region: 'US East' }, 'region'],
    [{ adoptBuckets: 'input,logs' }, 'adoptBuckets'],
    [{ profile: 'cse546-p2', stage1ExpirationDays: '13' }, 'stage1ExpirationDays'],
  ])('rejects %j, naming the setting', (ctx, key) => {
    expect(() => from(ctx)).toThrow(new RegExp(`-c ${key}=`));
  });

  test('the course profiles deploy to us-east-1 and keep frames 14 days unless told otherwise', () => {
    for (const profile of ['cse546-p1', 'cse546-p2']) {
      expect(from({ profile })).toMatchObject({ region: 'us-east-1', stage1ExpirationDays: 14 });
      expect(from({ profile, region: 'eu-west-1', stage1ExpirationDays: '30' })).toMatchObject({
        region: 'eu-west-1',
        stage1ExpirationDays: 30,
      });
    }
    // The default profile: the CLI profile's region, frames kept a day.
    expect(from({})).toMatchObject({ region: undefined, stage1ExpirationDays: 1 });
    expect(() => from({ profile: 'cse546-p2', stage1ExpirationDays: 3 })).toThrow(
      /stage1ExpirationDays=3: the cse546-p2 profile keeps frames at least 14 days/,
    );
  });

  test('describeRegion says where the stack goes and why', () => {
    expect(describeRegion(from({ profile: 'cse546-p2' }), false)).toMatch(
      /^us-east-1 \(the cse546-p2 profile's graders read us-east-1; -c region=\.\.\. to change\)/,
    );
    expect(describeRegion(from({ region: 'eu-west-1' }), true)).toBe('eu-west-1 (-c region)');
    expect(describeRegion(from({}), false)).toMatch(/region of the AWS CLI's profile/);
  });

  test('adoptBuckets: a list of bucket roles, either spelling, each once', () => {
    expect(from({ adoptBuckets: 'input, Stage-1,output,input' }).adoptBuckets).toEqual([
      'input',
      'stage-1',
      'output',
    ]);
    expect(from({ adoptBuckets: ['meta'] }).adoptBuckets).toEqual(['meta']);
    expect(from({}).adoptBuckets).toEqual([]);
  });

  test('a CloudFormation ${...} prefix is accepted as is (resolved at deploy time)', () => {
    expect(from({ prefix: 'team-${AWS::AccountId}' }).prefix).toBe('team-${AWS::AccountId}');
  });
});

describe('helpers', () => {
  test('parseS3Uri', () => {
    expect(parseS3Uri('s3://my-bucket/a/b.json')).toEqual({ bucket: 'my-bucket', key: 'a/b.json' });
    expect(parseS3Uri('models/generated/gallery.json')).toBeUndefined();
    expect(() => parseS3Uri('s3://nokey')).toThrow(/s3:\/\/bucket\/key/);
  });

  test('videoSuffixes wires both cases, once each', () => {
    expect(videoSuffixes(['mp4', 'MOV', 'mp4'])).toEqual(['.mp4', '.MP4', '.mov', '.MOV']);
  });
});

describe('synth-time checks', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'facerec-settings-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('a missing gallery says how to pass one', () => {
    expect(() => checkGalleryFile(path.join(tmp, 'nope.json'))).toThrow(/-c gallery=/);
  });

  test('a gallery that is not a gallery is refused', () => {
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, '{"version":1,"people":"?"}');
    expect(() => checkGalleryFile(bad)).toThrow(/not a valid gallery/);
    writeFileSync(bad, '{ nope');
    expect(() => checkGalleryFile(bad)).toThrow(/not JSON/);
    expect(() => checkGalleryFile(fixtureGallery)).not.toThrow();
  });

  test('missing models say to run npm run models', () => {
    expect(() => modelFiles(tmp)).toThrow(/npm run models/);
  });

  test('an ASL whose placeholders differ from the substitutions is refused, both ways', () => {
    const asl = path.join(tmp, 'x.asl.json');
    const good = readAsl(aslPath);
    writeFileSync(asl, good.replaceAll('${ResultFunctionArn}', '${ResultFnArn}'));
    expect(() => readAsl(asl)).toThrow(
      /unknown placeholders: ResultFnArn; placeholders never used: ResultFunctionArn/,
    );
    expect(() => readAsl(path.join(tmp, 'missing.asl.json'))).toThrow(/not found/);
  });
});
