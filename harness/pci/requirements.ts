/**
 * PCI DSS v4.0 requirement titles (shortened) for the requirements this
 * harness proves. Numbering is v4.0 (guide defect 20: the guide mixed in
 * v3.2.1 numbers). A requirement a check names but this table lacks is shown
 * with its number only.
 */
export const PCI_REQUIREMENTS: Record<string, string> = {
  '1.2.1': 'NSC configuration standards defined, implemented and maintained',
  '1.3.1': 'Inbound traffic to the CDE restricted to what is necessary',
  '1.3.2': 'Outbound traffic from the CDE restricted to what is necessary',
  '1.4.1': 'NSCs between trusted and untrusted networks',
  '2.2.1': 'Configuration standards developed, implemented and maintained',
  '2.2.3': 'Primary functions with different security levels managed (segregation)',
  '2.2.5': 'Insecure services, protocols or daemons justified and secured',
  '2.2.6': 'System security parameters configured to prevent misuse',
  '3.6.1': 'Cryptographic keys protected (key-management procedures)',
  '3.7.1': 'Key-management policies: generation of strong keys',
  '4.2.1': 'Strong cryptography protects data in transit',
  '6.3.2': 'Inventory of bespoke and third-party software components',
  '7.2.1': 'Access control model defined (least privilege)',
  '7.2.2': 'Access assigned by job classification and function',
  '7.2.5': 'System and application accounts: least privilege',
  '8.2.2': 'Shared, group or generic accounts only where necessary',
  '8.3.2': 'Strong cryptography renders authentication factors unreadable',
  '8.6.1': 'Interactive use of system/application accounts managed',
  '10.2.1': 'Audit logs enabled and active for all system components',
  '10.2.1.1': 'Audit logs capture individual user access to cardholder data',
  '10.2.1.2': 'Audit logs capture all actions by administrative accounts',
  '10.2.1.3': 'Audit logs capture all access to audit logs',
  '10.2.1.4': 'Audit logs capture invalid logical access attempts',
  '10.2.1.5': 'Audit logs capture changes to identification and authentication credentials',
  '10.2.1.6': 'Audit logs capture initialization, stopping or pausing of audit logs',
  '10.2.1.7': 'Audit logs capture creation and deletion of system-level objects',
  '10.2.2': 'Audit logs record the required details for each event',
  '10.3.2': 'Audit log files protected from modification',
  '10.3.3': 'Audit log files promptly backed up to a central server',
  '10.3.4': 'File integrity monitoring or change-detection used on audit logs',
  '10.5.1': 'Audit log history retained for at least 12 months',
  '11.5.1': 'Intrusion-detection / prevention techniques in place',
  '12.5.2': 'PCI DSS scope documented and confirmed',
};

/** Sort "1.3.10" after "1.3.2": numeric per segment. */
export function compareRequirements(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export function requirementTitle(id: string): string {
  return PCI_REQUIREMENTS[id] ?? '';
}
