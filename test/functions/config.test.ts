import { loadConfig } from '#functions/config.js';

describe('loadConfig', () => {
  it('gives the engine defaults with nothing set', () => {
    const { engine } = loadConfig({});
    expect(engine).toMatchObject({
      descriptor: 'mobilefacenet',
      matchThreshold: 0.65,
      matchThresholdFixed: false,
      openSetRule: true,
      mirrorDescriptor: false,
      noFaceFallback: true,
    });
  });

  it('the open-set rule: on for the default profile, off for the cse546 profiles unless set', () => {
    expect(loadConfig({}).engine.openSetRule).toBe(true);
    for (const profile of ['cse546-p1', 'cse546-p2']) {
      expect(loadConfig({ FACEREC_PROFILE: profile }).engine.openSetRule).toBe(false);
      expect(loadConfig({ FACEREC_PROFILE: profile, FACEREC_OPEN_SET_RULE: 'on' }).engine.openSetRule).toBe(
        true,
      );
    }
    expect(loadConfig({ FACEREC_OPEN_SET_RULE: 'off' }).engine.openSetRule).toBe(false);
  });

  it("takes each descriptor's 1:1 threshold unless one is set, and then marks it fixed", () => {
    expect(loadConfig({ FACEREC_DESCRIPTOR: 'dlib-resnet' }).engine).toMatchObject({
      descriptor: 'dlib-resnet',
      matchThreshold: 0.6,
      matchThresholdFixed: false,
      mirrorDescriptor: true,
    });
    expect(loadConfig({ FACEREC_MATCH_THRESHOLD: '0.5' }).engine).toMatchObject({
      matchThreshold: 0.5,
      matchThresholdFixed: true,
    });
    expect(() => loadConfig({ FACEREC_DESCRIPTOR: 'arcface' })).toThrow(/FACEREC_DESCRIPTOR/);
  });

  it.each([
    ['false', false],
    ['0', false],
    ['no', false],
    ['true', true],
    ['1', true],
    ['yes', true],
    ['off', false],
    ['on', true],
  ])('reads every on/off setting the same way: %s is %s', (value, expected) => {
    const config = loadConfig({
      FACEREC_MIRROR_DESCRIPTOR: value,
      FACEREC_NO_FACE_FALLBACK: value,
      FACEREC_WRITE_DETAIL: value,
      // The docs and local mode's own messages say FACEREC_LOCAL_IAM=off.
      FACEREC_LOCAL_IAM: value,
    });
    expect(config.engine.mirrorDescriptor).toBe(expected);
    expect(config.engine.noFaceFallback).toBe(expected);
    expect(config.pipeline.writeDetail).toBe(expected);
    expect(config.pipeline.local.iam).toBe(expected);
  });

  it('refuses a value it cannot read, naming the setting', () => {
    expect(() => loadConfig({ FACEREC_MIRROR_DESCRIPTOR: 'maybe' })).toThrow(/FACEREC_MIRROR_DESCRIPTOR/);
  });
});
