import type { OsId } from './os.js';

/**
 * Where each cloud keeps the stock cloud image of a target OS, and the user its images log in as.
 * These become variable defaults in the generated project (every one can be overridden with
 * -var), so a user only passes what is specific to their account.
 */
export interface BaseImages {
  /** Official generic cloud image (qcow2) for local qemu builds, and its checksum file. */
  qemu: { url: string; checksum: string };
  aws: { owner: string; name: string; sshUser: string };
  gcp: { family: string; project: string };
  azure: { publisher: string; offer: string; sku: string; plan?: { name: string; product: string; publisher: string } };
  openstack: { imageName: string; sshUser: string };
}

const rockyAzure = (major: 8 | 9): BaseImages['azure'] => ({
  publisher: 'resf',
  offer: 'rockylinux-x86_64',
  sku: `${major}-base`,
  // Rocky's Azure images are Marketplace images: the VM must carry their purchase plan.
  plan: { name: `${major}-base`, product: 'rockylinux-x86_64', publisher: 'resf' },
});

const rockyQemu = (major: 8 | 9): BaseImages['qemu'] => {
  const url = `https://dl.rockylinux.org/pub/rocky/${major}/images/x86_64/Rocky-${major}-GenericCloud-Base.latest.x86_64.qcow2`;
  return { url, checksum: `file:${url}.CHECKSUM` };
};

export const BASE_IMAGES: Readonly<Record<OsId, BaseImages>> = {
  debian12: {
    qemu: {
      url: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2',
      checksum: 'file:https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS',
    },
    aws: { owner: '136693071363', name: 'debian-12-amd64-*', sshUser: 'admin' },
    gcp: { family: 'debian-12', project: 'debian-cloud' },
    azure: { publisher: 'Debian', offer: 'debian-12', sku: '12-gen2' },
    openstack: { imageName: 'debian-12', sshUser: 'debian' },
  },
  debian13: {
    qemu: {
      url: 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2',
      checksum: 'file:https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS',
    },
    aws: { owner: '136693071363', name: 'debian-13-amd64-*', sshUser: 'admin' },
    gcp: { family: 'debian-13', project: 'debian-cloud' },
    azure: { publisher: 'Debian', offer: 'debian-13', sku: '13-gen2' },
    openstack: { imageName: 'debian-13', sshUser: 'debian' },
  },
  ubuntu2204: {
    qemu: {
      url: 'https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img',
      checksum: 'file:https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS',
    },
    aws: { owner: '099720109477', name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*', sshUser: 'ubuntu' },
    gcp: { family: 'ubuntu-2204-lts', project: 'ubuntu-os-cloud' },
    azure: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
    openstack: { imageName: 'ubuntu-22.04', sshUser: 'ubuntu' },
  },
  ubuntu2404: {
    qemu: {
      url: 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img',
      checksum: 'file:https://cloud-images.ubuntu.com/noble/current/SHA256SUMS',
    },
    aws: { owner: '099720109477', name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*', sshUser: 'ubuntu' },
    gcp: { family: 'ubuntu-2404-lts-amd64', project: 'ubuntu-os-cloud' },
    azure: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
    openstack: { imageName: 'ubuntu-24.04', sshUser: 'ubuntu' },
  },
  rocky8: {
    qemu: rockyQemu(8),
    aws: { owner: '792107900819', name: 'Rocky-8-EC2-Base-8.*.x86_64-*', sshUser: 'rocky' },
    gcp: { family: 'rocky-linux-8', project: 'rocky-linux-cloud' },
    azure: rockyAzure(8),
    openstack: { imageName: 'rocky-8', sshUser: 'rocky' },
  },
  rocky9: {
    qemu: rockyQemu(9),
    aws: { owner: '792107900819', name: 'Rocky-9-EC2-Base-9.*.x86_64-*', sshUser: 'rocky' },
    gcp: { family: 'rocky-linux-9', project: 'rocky-linux-cloud' },
    azure: rockyAzure(9),
    openstack: { imageName: 'rocky-9', sshUser: 'rocky' },
  },
};
