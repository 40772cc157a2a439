/**
 * What `lbbake explain` says about clouds: how the VIP reaches the MASTER (vip.cloud), every
 * permission and network prerequisite per cloud, and the cloud's share of the failover budget.
 * Facts and their sources: README "Clouds" (and the team's CLOUD-FACTS sheet).
 */
import type { Model, VipCloudApi } from '../compile/model.js';
import { apiCloud, cloudPermissions, vipCommand } from './hooks.js';

export type CloudName = 'aws' | 'gce' | 'azure' | 'openstack';

/** vip.cloud in the plan: how the VIP reaches the MASTER in that cloud, and what it needs. */
export interface CloudPlan {
  provider: string;
  mode: string;
  how: string;
  /** aws, gce: keepalived's notify command on the first node (the others differ in address=). */
  notify?: string;
  /** Every IAM permission the node's identity needs (empty for azure: nothing is called). */
  permissions: string[];
  checkIntervalSeconds?: number;
  probePort?: number;
}

/** The cloud's share of a failover, after keepalived's takeover. */
export interface CloudStep {
  /** Typical seconds, or null where the cloud documents no figure. */
  seconds: number | null;
  how: string;
  retries: string;
}

const api = (c: VipCloudApi) => `${c.provider}:${c.mode}`;

/** lbbake-vip's retry and reconcile behaviour, in words. */
function retries(c: VipCloudApi): string {
  const cap = Math.min(c.checkInterval, 5);
  return `a failed or throttled call is retried after 1, 2, 4 s, then every ${cap} s, for as long as the node is MASTER; ` +
    `the MASTER re-checks every ${c.checkInterval} s that the cloud routes the VIP to it and claims it again if not; ` +
    'a node that is no longer MASTER never makes a call that changes the cloud';
}

export function cloudPlan(m: Model): CloudPlan | undefined {
  const c = m.vip.cloud;
  if (!c) return undefined;
  const v = m.vip.address;
  if (c.provider === 'azure') {
    return {
      provider: 'azure',
      mode: 'load-balancer',
      how: `the internal load balancer sends ${v} only to the node whose health probe answers: haproxy on each node answers HTTP 200 on <node address>:${c.probePort}/ only while that node holds the VIP (keepalived MASTER), else 503`,
      permissions: [],
      probePort: c.probePort,
    };
  }
  const how: Record<string, string> = {
    'aws:secondary-ip': `lbbake-vip assigns ${v} as a secondary private IP to the MASTER's ENI (AssignPrivateIpAddresses with AllowReassignment: EC2 takes it from the old MASTER)`,
    'aws:route': `lbbake-vip points ${v}/32 in route table(s) ${c.routeTableIds.join(', ')} at the MASTER's ENI (ReplaceRoute, or CreateRoute when the table has none)`,
    'gce:alias-ip': `lbbake-vip removes the alias IP range ${v}/32 from whichever instance holds it, then adds it to the MASTER's nic0 (instances.updateNetworkInterface with fingerprints, each Operation waited for)`,
    'gce:route': `lbbake-vip creates a route ${c.routeName}-<time> for ${v}/32 with the MASTER as next hop and a better (lower) priority than the current one, waits until it is DONE, then deletes the older ${c.routeName}* routes (create before delete: no gap, no split)`,
  };
  return {
    provider: c.provider,
    mode: c.mode,
    how: how[api(c)],
    notify: vipCommand(m, m.nodes[0], 'notify'),
    permissions: cloudPermissions(c),
    checkIntervalSeconds: c.checkInterval,
  };
}

export function cloudStep(m: Model): CloudStep | undefined {
  const c = m.vip.cloud;
  if (!c) return undefined;
  if (c.provider === 'azure') {
    return {
      seconds: 6,
      how: `haproxy sees the VIP on the new MASTER within 1 s (check inter 1 s, rise 1) and answers the probe; with the probe set as lbbake says (interval 5 s, threshold 1) the load balancer sends new flows there within one interval: about 6 s after the VRRP takeover. Azure documents the probe's behaviour, not a failover time`,
      retries: 'no API is called; the probe is answered continuously',
    };
  }
  const a = apiCloud(m)!;
  if (c.provider === 'aws') {
    return {
      seconds: 1.7,
      how: 'lbbake-vip starts at once (keepalived notify), gets IMDSv2 credentials and makes one or two EC2 calls (~0.5 s), then EC2 remaps the address asynchronously: ~1.2 s measured by others over 456 moves (AWS documents no figure); 0.5-1 s in lbbake\'s cloud lab',
      retries: retries(a),
    };
  }
  return {
    seconds: null,
    how: c.mode === 'alias-ip'
      ? 'lbbake-vip makes two updateNetworkInterface calls (release, then add), each an Operation it waits for until DONE; Google documents no time for them (0.5 s each in lbbake\'s cloud lab)'
      : 'lbbake-vip creates the new route and traffic follows once its Operation is DONE (routes propagate eventually, per Google, with no figure); 0.5 s in lbbake\'s cloud lab',
    retries: retries(a),
  };
}

/** Every cloud's prerequisites, for any lb.yaml (the reader may not have chosen a cloud yet). */
export function cloudPrerequisites(m: Model): Record<CloudName, string[]> {
  const v = m.vip.address;
  const addrs = m.nodes.map((n) => n.address);
  const key = m.identity.metadataKey;
  const perms = (provider: 'aws' | 'gce', mode: VipCloudApi['mode']) =>
    cloudPermissions({ provider, mode, routeTableIds: [], routeName: undefined, network: 'default', checkInterval: 10, program: '' }).join(', ');
  const probe = m.vip.cloud?.provider === 'azure' ? m.vip.cloud.probePort : 61000;
  return {
    aws: [
      `security group: allow IP protocol 112 (VRRP) between ${addrs.join(' and ')}, and the service ports from clients`,
      `a gratuitous ARP does not move the VIP in a VPC: set vip.cloud { provider: aws, mode: secondary-ip } (${v} inside the nodes' one subnet: both ENIs in it) or { provider: aws, mode: route, routeTableIds: [rtb-...] } (${v} outside the VPC CIDR; each table needs no route for it beforehand; disable source/destination check on both ENIs)`,
      `instance profile (role) of both nodes: secondary-ip: ${perms('aws', 'secondary-ip')}; route: ${perms('aws', 'route')}`,
      'IMDSv2 reachable from the node (the default hop limit 1 is enough), and HTTPS to ec2.<region>.amazonaws.com (or an ec2 VPC interface endpoint)',
      `identity: tag each instance ${key}=<node name> and enable instance metadata tags (InstanceMetadataTags=enabled)`,
    ],
    gce: [
      'firewall rule: allow IP protocol 112 (VRRP) between the LB nodes (by network tag), and the service ports from clients',
      `the VIP does not follow a gratuitous ARP: set vip.cloud { provider: gce, mode: alias-ip } (${v}/32 from the nodes' subnet; no other instance may hold it) or { provider: gce, mode: route, routeName: NAME } (${v} outside every subnet; create the instances with can_ip_forward = true)`,
      `the nodes' service account (cloud-platform or compute scope): alias-ip: ${perms('gce', 'alias-ip')}; route: ${perms('gce', 'route')}`,
      'the metadata server reachable (it is by default), and HTTPS to compute.googleapis.com (or Private Google Access)',
      `identity: set instance metadata ${key}=<node name>`,
    ],
    azure: [
      'NSG: allow protocol "Any" between the LB nodes (VRRP is IP protocol 112, which NSG rules cannot name), and the service ports from clients; Azure does not document whether protocol 112 passes between VMs (lbbake\'s lab cannot tell)',
      `no VIP move: set vip.cloud { provider: azure }; create an internal Standard Load Balancer with frontend IP ${v}, both nodes' NICs in its backend pool, a rule per service port (or one HA-ports rule: protocol All, port 0) with floating IP enabled, and an HTTP health probe on port ${probe}, path /, interval 5 s, threshold 1: haproxy answers it 200 only on the node holding the VIP`,
      `NSG: allow 168.63.129.16 (the probe's source) to TCP ${probe} on both nodes`,
      `identity: tag each VM ${key}=<node name>`,
    ],
    openstack: [
      'security group: allow protocol vrrp (112) between the LB nodes, and the service ports from clients',
      `no VIP move and no vip.cloud: add ${v} to allowed-address-pairs on both nodes' ports (openstack port set --allowed-address ip-address=${v} PORT; reserve it with an unbound port: openstack port create --network NET --fixed-ip ip-address=${v} vip-port); keepalived's gratuitous ARP then moves it`,
      `identity: set server metadata ${key}=<node name> (openstack server set --property ${key}=NAME)`,
    ],
  };
}
