package gen

// resource is a token audience. Well-known first-party resources keep their
// real appIds so that filters such as resourceId eq '00000003-…' behave as
// they would against a real tenant.
type resource struct {
	name, id  string
	azureMgmt bool // targeted by the "Require MFA for Azure management" policy
}

var firstPartyResources = []resource{
	{"Microsoft Graph", "00000003-0000-0000-c000-000000000000", false},
	{"Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", false},
	{"Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000", false},
	{"Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", false},
	{"Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013", true},
	{"Windows Azure Active Directory", "00000002-0000-0000-c000-000000000000", false},
	{"Device Registration Service", "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9", false},
	{"Azure Key Vault", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093", false},
	{"Microsoft Intune Enrollment", "d4ebce55-015a-49b5-a083-c84d1797ae8c", false},
	{"Office 365 Management APIs", "c5393580-f805-4401-95e8-94b7a6ef2fc2", false},
}

// Resource indexes into firstPartyResources used by the app table below.
const (
	resGraph = iota
	resExchange
	resSharePoint
	resTeams
	resAzureMgmt
	resAAD
	resDRS
	resKeyVault
	resIntune
	resO365Mgmt
)

// clientApp describes an application users sign in to. weight shapes the
// Zipf rank order (heavier apps get the lower ranks); browser says whether
// users typically reach it in a browser rather than a rich client.
type clientApp struct {
	name, id   string
	resources  []int
	browser    bool
	richOnly   bool
	nonInterOK bool // frequently refreshes tokens silently
}

var firstPartyApps = []clientApp{
	{"Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264", []int{resTeams, resGraph, resSharePoint, resExchange}, false, true, true},
	{"Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", []int{resExchange, resGraph}, true, false, true},
	{"Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c", []int{resExchange, resSharePoint, resGraph, resO365Mgmt}, false, true, true},
	{"OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca", []int{resGraph, resSharePoint}, true, false, true},
	{"Microsoft Authentication Broker", "29d9ed98-a469-4536-ade2-f981bc1d605e", []int{resDRS, resGraph, resAAD}, false, true, true},
	{"Office365 Shell WCSS-Client", "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7", []int{resGraph, resSharePoint}, true, false, true},
	{"Microsoft Edge", "ecd6b820-32c2-49b6-98a6-444530e5a77a", []int{resGraph, resAAD}, false, true, true},
	{"Windows Sign In", "38aa3b87-a06d-4817-b275-7a316988d93b", []int{resAAD, resDRS}, false, true, true},
	{"Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", []int{resAzureMgmt, resGraph}, true, false, true},
	{"Microsoft Graph PowerShell", "14d82eec-204b-4c2f-b7e8-296a70dab67e", []int{resGraph}, false, true, false},
	{"One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48", []int{resExchange, resGraph}, true, false, true},
	{"Microsoft Teams Web Client", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346", []int{resTeams, resGraph}, true, false, true},
	{"OneDrive SyncEngine", "ab9b8c07-8f02-4f72-87fa-80105867a763", []int{resSharePoint}, false, true, true},
	{"Microsoft Intune Company Portal", "9ba1a5c7-f17a-4de9-a1f1-6178c8d51223", []int{resIntune, resGraph}, false, true, true},
	{"Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46", []int{resAzureMgmt, resGraph, resKeyVault}, false, true, false},
	{"My Signins", "19db86c3-b2b9-44cc-b339-36da233a3be2", []int{resGraph}, true, false, false},
	{"Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4", []int{resExchange, resGraph}, false, true, true},
}

// Words for custom line-of-business apps ("Contoso Expense Portal").
var lobWords1 = []string{"Expense", "Payroll", "Inventory", "HR", "Travel", "Procurement", "Sales", "Support", "Billing", "Analytics", "Onboarding", "Compliance"}
var lobWords2 = []string{"Portal", "API", "Connector", "Dashboard", "Sync", "Service", "Gateway", "Reports"}

// Managed identity resource kinds for azureResourceId.
var miKinds = []struct{ provider, prefix string }{
	{"Microsoft.Web/sites", "func-"},
	{"Microsoft.Web/sites", "app-"},
	{"Microsoft.Compute/virtualMachines", "vm-"},
	{"Microsoft.Logic/workflows", "logic-"},
	{"Microsoft.ContainerInstance/containerGroups", "aci-"},
	{"Microsoft.DataFactory/factories", "adf-"},
}
