const syncAllPlatforms = async (adminToken) => {
const response = await fetch('http://localhost:3000/contests/sync/all', {
method: 'POST',
headers: {
'Authorization': `Bearer ${adminToken}`
}
});
if (!response.ok) {
throw new Error('Failed to sync platforms');
}
return await response.json();
};
// Usage
const result = await syncAllPlatforms(adminToken);
// Calculate totals
const totals = Object.values(result.results).reduce((acc, platform) => ({
synced: acc.synced + platform.synced,
updated: acc.updated + platform.updated,
failed: acc.failed + platform.failed
}), { synced: 0, updated: 0, failed: 0 });
console.log(`Total: ${totals.synced} new, ${totals.updated} updated`);
