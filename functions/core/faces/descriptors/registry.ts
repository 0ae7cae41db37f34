/** The descriptor models FACEREC_DESCRIPTOR chooses from (measured against each other in
 * docs/benchmarks.md), one file each. */
import type { DescriptorModel } from '../describe.js';
import { dlibResnet } from './dlib-resnet.js';
import { mobileFaceNet } from './mobilefacenet.js';

export const DESCRIPTOR_KINDS = ['dlib-resnet', 'mobilefacenet'] as const;
export type DescriptorKind = (typeof DESCRIPTOR_KINDS)[number];

export const DESCRIPTORS: Record<DescriptorKind, DescriptorModel> = {
  'dlib-resnet': dlibResnet,
  mobilefacenet: mobileFaceNet,
};
